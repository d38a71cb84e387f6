"""Existing accounts get a membership: staff and superusers become admins, everyone else members."""

from django.db import migrations


def forwards(apps, schema_editor):
    User = apps.get_model("auth", "User")
    Membership = apps.get_model("team", "Membership")
    have = set(Membership.objects.values_list("user_id", flat=True))
    Membership.objects.bulk_create(
        Membership(
            user_id=user.pk, role="admin" if user.is_staff or user.is_superuser else "member"
        )
        for user in User.objects.exclude(pk__in=have).only("pk", "is_staff", "is_superuser")
    )
    # Admins are staff and superusers, so the Django admin follows the role.
    User.objects.filter(pk__in=Membership.objects.filter(role="admin").values("user_id")).update(
        is_staff=True, is_superuser=True
    )


class Migration(migrations.Migration):
    dependencies = [("team", "0001_initial"), ("auth", "0012_alter_user_first_name_max_length")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
