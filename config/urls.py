from django.conf import settings
from django.contrib import admin
from django.contrib.auth import urls as auth_urls
from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

PASSWORD_RESET_NAMES = {"password_reset", "password_reset_done", "password_reset_confirm", "password_reset_complete"}


def account_urlpatterns(*, password_reset: bool) -> list[URLPattern | URLResolver]:
    """Login, logout and password change; the password-reset pages only where mail can deliver the link."""
    return [p for p in auth_urls.urlpatterns if password_reset or not _resets_password(p)]


def _resets_password(pattern: URLPattern | URLResolver) -> bool:
    return isinstance(pattern, URLPattern) and pattern.name is not None and pattern.name in PASSWORD_RESET_NAMES


urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include(account_urlpatterns(password_reset=settings.PASSWORD_RESET_ENABLED))),
    path("api/v1/", include("products.api.urls")),
    path("api/v1/", include("tracker.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file, so the page runs no inline script (CSP).
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("", include("tracker.urls")),
]

handler400 = "products.api.fallbacks.bad_request"
handler403 = "products.api.fallbacks.permission_denied"
handler404 = "products.api.fallbacks.page_not_found"
handler500 = "products.api.fallbacks.server_error"
