"""Budgets move here from ``generation``: state only, the table stays
(``0002_rename_table`` gives it this app's name)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("generation", "0003_job_heartbeat_and_settlement"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Budget",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("monthly_usd", models.DecimalField(decimal_places=2, max_digits=14)),
                        ("is_team", models.BooleanField(default=False, editable=False)),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                        (
                            "user",
                            models.OneToOneField(
                                blank=True,
                                help_text="Leave empty for the whole team's budget.",
                                null=True,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="budget",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "generation_budget",
                        "constraints": [
                            models.UniqueConstraint(
                                condition=models.Q(("is_team", True)),
                                fields=("is_team",),
                                name="one_team_budget",
                                violation_error_message="There is already a team budget.",
                            ),
                            models.CheckConstraint(
                                condition=models.Q(
                                    models.Q(("is_team", True), ("user__isnull", True)),
                                    models.Q(("is_team", False), ("user__isnull", False)),
                                    _connector="OR",
                                ),
                                name="team_budget_has_no_user",
                            ),
                            models.CheckConstraint(
                                condition=models.Q(("monthly_usd__gte", 0)),
                                name="budget_not_negative",
                            ),
                        ],
                    },
                ),
            ],
        ),
    ]
