"""The background pool: a few threads per process that run maintenance off the request."""
from __future__ import annotations

import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Callable

from flask import Flask

from bookingapp.extensions import db

_pool_lock = threading.Lock()


def background_pool(app: Flask) -> ThreadPoolExecutor:
    """The app's thread pool in this process, created on first use.

    Created lazily and keyed by pid: a pool made before gunicorn forks (``--preload``)
    would live in the master, so each worker makes its own.
    """
    with _pool_lock:
        owner, pool = app.extensions.get("slots_pool", (None, None))
        if owner != os.getpid() or pool is None:
            pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="slots")
            app.extensions["slots_pool"] = (os.getpid(), pool)
        return pool


def submit(app: Flask, work: Callable[[], object]) -> Future:
    """Run ``work`` in the background pool inside an app context; nobody waits for it."""

    def run():
        with app.app_context():
            try:
                return work()
            finally:
                db.session.remove()

    return background_pool(app).submit(run)
