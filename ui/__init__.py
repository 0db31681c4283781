"""The touchscreen user interface: Qt widgets that render the core's screen models."""
