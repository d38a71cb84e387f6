"""ASGI entry point: uvicorn serves Darkroom so that server-sent events stream."""

import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")

application = get_asgi_application()

# Everything loaded so far (Django, the apps, templates' code) lives as long as
# the process: keep it out of the garbage collector's full passes, which
# otherwise walk it again while thousands of open streams wait for a change.
gc.freeze()
