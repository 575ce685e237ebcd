"""DRF authentication by `Authorization: Token <key>` against hashed, expiring, revocable tokens."""

from typing import Any

from rest_framework import authentication, exceptions

from products.services.tokens import TokenRejected, token_authenticate


class HashedTokenAuthentication(authentication.TokenAuthentication):
    keyword = "Token"

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        try:
            token = token_authenticate(key=key)
        except TokenRejected as exc:
            raise exceptions.AuthenticationFailed(str(exc)) from exc
        return token.user, token
