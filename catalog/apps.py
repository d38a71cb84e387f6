from __future__ import annotations

from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = "Model catalog"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from catalog import snapshot
        from catalog.models import Endpoint, ImageModel, Price, SyncRun

        # Each process keeps a copy of the catalog (catalog.snapshot): any change
        # to it, and the end of every sync run (which writes in bulk), drops it.
        for model in (ImageModel, Endpoint, Price):
            post_save.connect(snapshot.on_change, sender=model, dispatch_uid=f"snapshot-{model}")
            post_delete.connect(
                snapshot.on_change, sender=model, dispatch_uid=f"snapshot-d-{model}"
            )
        post_save.connect(snapshot.on_change, sender=SyncRun, dispatch_uid="snapshot-syncrun")
