"""DIP on one machine: API simulator, embedded Kafka + Redis, Maven jar resolution and the end-to-end demo.

Dev-only: distributed as ``dip-local`` beside the cluster wheel ``dip``; it adds its commands to the ``dip`` CLI
through the ``dip.commands`` entry-point group. Nothing in ``dip`` imports it.
"""
