"""Device adapters (card reader, QR scanner, receipt printer) and their simulators.

Nothing here imports the kiosk core or Qt: adapters report through plain callbacks.
"""
