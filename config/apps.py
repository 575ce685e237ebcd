from django.contrib.admin.apps import AdminConfig


class TrackerAdminConfig(AdminConfig):
    """Django's admin, with the project's site (config.admin_site) as the default `admin.site`."""

    default_site = "config.admin_site.TrackerAdminSite"
