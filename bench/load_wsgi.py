"""The WSGI application the load test serves (gunicorn ``load_wsgi:application``): cets on the load
test's market clock (:mod:`load_clock`, anchored by ``LOAD_CLOCK_ANCHOR``)."""

import load_clock

load_clock.install()

from cets.wsgi import application  # noqa: E402

__all__ = ["application"]
