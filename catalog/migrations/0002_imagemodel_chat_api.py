from django.db import migrations, models


def mark_chat_models(apps, schema_editor):
    """Before the next sync says so: a model in /models has prices from it, and a
    model not in /images/models can only have come from /models."""
    ImageModel = apps.get_model("catalog", "ImageModel")
    Price = apps.get_model("catalog", "Price")
    listed = Price.objects.filter(source="models").values("model_id")
    ImageModel.objects.filter(models.Q(pk__in=listed) | models.Q(image_api=False)).update(
        chat_api=True
    )


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="imagemodel",
            name="chat_api",
            field=models.BooleanField(
                default=False,
                help_text="Listed by /models?output_modalities=image, so Chat Completions and the image tool can use it.",
            ),
        ),
        migrations.RunPython(mark_chat_models, migrations.RunPython.noop),
    ]
