"""Packaging for ``dip-local``: DIP on one machine (simulator, local stack, jar resolution, demo); never on clusters.

It adds its commands to the ``dip`` CLI through the ``dip.commands`` entry-point group; `make setup` installs it
editable beside ``dip``. The cluster wheel (the root ``setup.py``) holds none of it.
"""

from setuptools import find_packages, setup

setup(
    name="dip-local",
    version="0.1.0",
    description="DIP on one machine: API simulator, embedded Kafka + Redis, Maven jar resolution, end-to-end demo.",
    python_requires=">=3.11,<3.13",
    packages=find_packages(include=["dip_local", "dip_local.*"]),
    # the demo runs every stage: Spark locally, the connectors, the serving API, training, the quality suites
    install_requires=["dip[local,connectors,serving,ml,quality,otel,readers]"],
    entry_points={
        "dip.commands": [
            "demo = dip_local.commands.demo:register",
            "jars = dip_local.commands.jars:register",
            "simulate-api = dip_local.commands.simulator:register",
            "stack = dip_local.commands.stack:register",
        ]
    },
)
