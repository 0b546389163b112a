"""The dev-only ``dip`` commands; each module's ``register`` is an entry point of the ``dip.commands`` group."""
