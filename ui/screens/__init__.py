"""One view per screen model of `kiosk.screens`; each renders a model and calls journey methods."""
