"""The staff maintenance menu: hidden gesture, PIN pad and the menu itself (the core is kiosk/maintenance.py)."""
