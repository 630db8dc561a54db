"""Multilingual demo data: `load_demo()` fills an empty help desk for `frontdesk demo`."""

from frontdesk.demo.loader import DEMO_PASSWORD, load_demo

__all__ = ["DEMO_PASSWORD", "load_demo"]
