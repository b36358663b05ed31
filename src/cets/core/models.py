from django.db import models


class WorkingDayOverride(models.Model):
    """An administrator's correction to the working-day calendar (a year ``chinese_calendar`` lacks,
    or an ad-hoc closure): ``is_working_day`` wins over the library for that date."""

    date = models.DateField(unique=True)
    is_working_day = models.BooleanField()
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["date"]
