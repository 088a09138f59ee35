from django.apps import AppConfig


class LearningConfig(AppConfig):
    name = "learning"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # The cached lists of the teachers' pages follow every write of the rows they show
        # (learning.page_parts): signals, because cascades and QuerySet.delete() call no
        # model's delete().
        from learning import page_parts

        page_parts.connect()
