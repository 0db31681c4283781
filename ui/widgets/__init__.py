"""Reusable kiosk widgets: buttons, keypad, QR code, countdown, icons, header, banners."""
