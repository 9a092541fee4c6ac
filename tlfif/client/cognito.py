"""IdentityProvider on a Cognito user pool: InitiateAuth with a password or a refresh token,
and the challenges a password login may meet on the way.

InitiateAuth, RespondToAuthChallenge, AssociateSoftwareToken and VerifySoftwareToken with a
session are Cognito's unauthenticated APIs (AWS evaluates no IAM for them), so the client is
UNSIGNED: a laptop with no AWS credentials logs in, and botocore does not walk its
credential chain (IMDS probes included) before each call. boto3 is imported on first use.

The challenges answered: NEW_PASSWORD_REQUIRED (a user the owner created, at the first
sign-in), MFA_SETUP (a pool that requires MFA, the first time: an authenticator app is
paired by its secret, then proves it with a code) and SOFTWARE_TOKEN_MFA (every sign-in
after). The answers come from the caller's ChallengeAnswers (a terminal, for the CLI).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

from tlfif.client.errors import (
    LoginFailed,
    ServiceUnavailable,
    ServiceUnreachable,
    SessionExpired,
)
from tlfif.client.session import ChallengeAnswers
from tlfif.client.tokens import TokenSet
from tlfif.errors import ConfigError, Throttled, TlfifError

# Cognito's answers that mean the user, not the setup, is at fault.
LOGIN_REFUSED_CODES = frozenset({"NotAuthorizedException", "UserNotFoundException"})
# Cognito's answers that mean the profile points at a pool or client that cannot log in.
SETUP_CODES = frozenset({"ResourceNotFoundException", "InvalidParameterException"})
THROTTLE_CODES = frozenset({"TooManyRequestsException", "LimitExceededException"})
THROTTLE_RETRY_SECONDS = 5
# Cognito's answers to a wrong or stale code, or a new password it does not take.
CHALLENGE_REFUSED_CODES = frozenset(
    {"CodeMismatchException", "ExpiredCodeException", "InvalidPasswordException",
     "EnableSoftwareTokenMFAException"}
)  # fmt: skip
# A login passes at most these many challenges (new password, MFA setup, code).
MAX_CHALLENGES = 4
APP_NAME = "TL-FIF"


class CognitoIdentityProvider:
    """USER_PASSWORD_AUTH and REFRESH_TOKEN_AUTH against one app client (no client secret)."""

    def __init__(self, region: str, client_id: str, endpoint_url: str | None = None) -> None:
        self._region = region
        self._client_id = client_id
        # None means AWS_ENDPOINT_URL or AWS itself, as for every boto3 client.
        self._endpoint_url = endpoint_url
        self._cognito: Any = None

    def password_login(
        self, username: str, password: str, answers: ChallengeAnswers | None = None
    ) -> TokenSet:
        with cognito_errors(self._where(), LoginFailed, "incorrect username or password"):
            answer = self._client().initiate_auth(
                ClientId=self._client_id,
                AuthFlow="USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": username, "PASSWORD": password},
            )
        for _ in range(MAX_CHALLENGES):
            if "ChallengeName" not in answer:
                break
            answer = self._answer(answer, username, answers)
        return self._tokens(answer, username, refresh_token=None)

    def _answer(
        self, challenge: dict[str, Any], username: str, answers: ChallengeAnswers | None
    ) -> dict[str, Any]:
        """Cognito's next answer after this challenge is met."""
        name = str(challenge["ChallengeName"])
        if answers is None or name not in ("NEW_PASSWORD_REQUIRED", "MFA_SETUP",
                                           "SOFTWARE_TOKEN_MFA"):  # fmt: skip
            raise LoginFailed(
                f"Cognito asks for {name}; run `tlfif login` in a terminal to answer it"
            )
        cognito, session = self._client(), str(challenge["Session"])
        responses = {"USERNAME": username}
        with cognito_errors(self._where(), LoginFailed, "Cognito refused the answer"):
            if name == "NEW_PASSWORD_REQUIRED":
                responses["NEW_PASSWORD"] = answers.new_password()
            elif name == "SOFTWARE_TOKEN_MFA":
                responses["SOFTWARE_TOKEN_MFA_CODE"] = answers.authenticator_code()
            else:  # MFA_SETUP: pair an authenticator app, prove it with a code
                secret = cognito.associate_software_token(Session=session)
                answers.pair_authenticator(
                    secret["SecretCode"], otpauth_uri(secret["SecretCode"], username)
                )
                verified = cognito.verify_software_token(
                    Session=secret["Session"],
                    UserCode=answers.authenticator_code(),
                    FriendlyDeviceName=APP_NAME,
                )
                session = str(verified["Session"])
            answer: dict[str, Any] = cognito.respond_to_auth_challenge(
                ClientId=self._client_id,
                ChallengeName=name,
                Session=session,
                ChallengeResponses=responses,
            )
        return answer

    def refresh(self, tokens: TokenSet) -> TokenSet:
        with cognito_errors(self._where(), SessionExpired, "the refresh token was refused"):
            answer = self._client().initiate_auth(
                ClientId=self._client_id,
                AuthFlow="REFRESH_TOKEN_AUTH",
                AuthParameters={"REFRESH_TOKEN": tokens.refresh_token},
            )
        return self._tokens(answer, tokens.username, refresh_token=tokens.refresh_token)

    def _tokens(self, answer: dict[str, Any], username: str, refresh_token: str | None) -> TokenSet:
        if "ChallengeName" in answer:
            raise LoginFailed(
                f"Cognito asks for {answer['ChallengeName']} after {MAX_CHALLENGES} challenges"
            )
        result = answer["AuthenticationResult"]
        return TokenSet(
            username=username,
            client_id=self._client_id,
            access_token=result["AccessToken"],
            # REFRESH_TOKEN_AUTH returns no new refresh token unless rotation is on.
            refresh_token=result.get("RefreshToken") or refresh_token or "",
            expires_at=time.time() + int(result["ExpiresIn"]),
        )

    def _where(self) -> str:
        return self._endpoint_url or f"https://cognito-idp.{self._region}.amazonaws.com"

    def _client(self) -> Any:
        if self._cognito is None:
            import boto3
            from botocore import UNSIGNED
            from botocore.config import Config

            config = Config(
                signature_version=UNSIGNED,
                connect_timeout=3,
                read_timeout=10,
                retries={"mode": "standard", "max_attempts": 2},
            )
            self._cognito = boto3.client(
                "cognito-idp",
                region_name=self._region,
                endpoint_url=self._endpoint_url,
                config=config,
            )
        return self._cognito


def otpauth_uri(secret: str, username: str) -> str:
    """The key URI authenticator apps read (Google's Key Uri Format): TOTP, 6 digits, 30 s."""
    label = quote(f"{APP_NAME}:{username}")
    return f"otpauth://totp/{label}?secret={secret}&issuer={quote(APP_NAME)}"


@contextmanager
def cognito_errors(where: str, refused: type[TlfifError], refused_message: str) -> Iterator[None]:
    """botocore's failures as the TlfifError a user can act on; `refused` is what a
    refusal of these credentials means (LoginFailed, or SessionExpired on a refresh)."""
    from botocore.exceptions import BotoCoreError, ClientError
    from botocore.exceptions import ConnectionError as BotoConnectionError

    try:
        yield
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        message = exc.response.get("Error", {}).get("Message", "")
        if code in LOGIN_REFUSED_CODES:
            raise refused(refused_message) from None
        if code in CHALLENGE_REFUSED_CODES:
            raise refused(f"Cognito refused the answer: {message or code}") from None
        if code in THROTTLE_CODES:
            raise Throttled(
                "Cognito is throttling logins", retry_after=THROTTLE_RETRY_SECONDS
            ) from None
        if code in SETUP_CODES:
            raise ConfigError(
                f"Cognito at {where} refused the profile's app client: {message}"
            ) from None
        if code == "InternalErrorException":
            raise ServiceUnavailable(f"Cognito failed: {message}") from None
        # UserNotConfirmedException, PasswordResetRequiredException, ...: Cognito's own
        # words tell the user what to do.
        raise refused(f"Cognito refused: {code}: {message}") from None
    except BotoConnectionError:
        # Refused, DNS, connect timeout: nothing reached Cognito.
        raise ServiceUnreachable(
            f"cannot reach Cognito at {where}", service="Cognito", url=where
        ) from None
    except BotoCoreError as exc:
        raise ServiceUnreachable(
            f"Cognito at {where} failed: {exc}", service="Cognito", url=where
        ) from None
