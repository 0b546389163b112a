"""The seller dashboard, mounted by ``dip serve`` under ``/dashboard``: gold tables read without a JVM."""
