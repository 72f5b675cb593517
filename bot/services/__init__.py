"""The service layer: every rule of the product, channel-free (see DESIGN.md)."""
