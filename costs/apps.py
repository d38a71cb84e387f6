from django.apps import AppConfig


class CostsConfig(AppConfig):
    name = "costs"
    verbose_name = "Costs"

    def ready(self) -> None:
        # Job creation asks generation.spending; the budgets answer it.
        from costs import budgets
        from generation import spending

        spending.install(budgets)
