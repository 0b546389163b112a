"""The embedded local stack: a Kafka 4.x KRaft broker and Redis on loopback (`dip stack up|down|status`)."""

from dip_local.stack.services import ServiceStatus, stack_down, stack_status, stack_up

__all__ = ["ServiceStatus", "stack_down", "stack_status", "stack_up"]
