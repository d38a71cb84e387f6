"""Favourites and boards now belong to ``gallery``, budgets to ``costs``: this app
forgets them (state only; the tables and their rows are theirs now)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("generation", "0003_job_heartbeat_and_settlement"),
        ("gallery", "0001_initial"),
        ("costs", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name="board",
                    name="created_by",
                ),
                migrations.RemoveField(
                    model_name="board",
                    name="images",
                ),
                migrations.RemoveConstraint(
                    model_name="boarditem",
                    name="one_item_per_board_image",
                ),
                migrations.RemoveConstraint(
                    model_name="budget",
                    name="one_team_budget",
                ),
                migrations.RemoveConstraint(
                    model_name="budget",
                    name="team_budget_has_no_user",
                ),
                migrations.RemoveConstraint(
                    model_name="budget",
                    name="budget_not_negative",
                ),
                migrations.RemoveConstraint(
                    model_name="favourite",
                    name="one_favourite_per_user_image",
                ),
                migrations.RemoveField(
                    model_name="boarditem",
                    name="added_by",
                ),
                migrations.RemoveField(
                    model_name="boarditem",
                    name="board",
                ),
                migrations.RemoveField(
                    model_name="boarditem",
                    name="image",
                ),
                migrations.RemoveField(
                    model_name="budget",
                    name="user",
                ),
                migrations.RemoveField(
                    model_name="favourite",
                    name="image",
                ),
                migrations.RemoveField(
                    model_name="favourite",
                    name="user",
                ),
                migrations.DeleteModel(
                    name="Board",
                ),
                migrations.DeleteModel(
                    name="BoardItem",
                ),
                migrations.DeleteModel(
                    name="Budget",
                ),
                migrations.DeleteModel(
                    name="Favourite",
                ),
            ],
        ),
    ]
