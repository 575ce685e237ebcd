from django.apps import AppConfig


class ProductsConfig(AppConfig):
    name = "products"
    verbose_name = "Products (chain of identity and custody)"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from products import checks  # noqa: F401  (registers the security checks)
        from products.middleware import session_renewed_at_login

        user_logged_in.connect(session_renewed_at_login, dispatch_uid="session_renewed_at_login")
