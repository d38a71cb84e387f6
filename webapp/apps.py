from django.apps import AppConfig


class WebappConfig(AppConfig):
    name = "webapp"
    verbose_name = "Darkroom"

    def ready(self) -> None:
        from django.core.signals import got_request_exception

        from webapp import unavailable

        got_request_exception.connect(unavailable.mark_request, dispatch_uid="darkroom-unavailable")
