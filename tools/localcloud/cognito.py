"""Cognito on moto: the template's user pools and app clients, and signing a customer in for a bearer token.

moto's cognito-idp issues real RS256 tokens (its one key, served as the pool's JWKS at
`/<pool id>/.well-known/jwks.json`) through AdminInitiateAuth with ADMIN_USER_PASSWORD_AUTH;
the local HTTP API verifies them against that JWKS (api_auth.py).
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from typing import Any

from tools.localcloud.stack import REGION, Stack

# Local customers are created on first sign-in with a password derived from their name: a local
# cloud's users are test users, and anyone who can reach its moto endpoint is its administrator.
PASSWORD_PREFIX = "Local-"


def provision_user_pools(stack: Stack) -> None:
    cognito = stack.client("cognito-idp")
    for logical_id, props, name in stack.declared("AWS::Cognito::UserPool", "UserPoolName"):
        policies = {"Policies": props["Policies"]} if "Policies" in props else {}
        pool = cognito.create_user_pool(PoolName=name, **policies)["UserPool"]
        stack.add(
            logical_id,
            pool["Id"],
            Arn=pool["Arn"],
            ProviderName=f"cognito-idp.{REGION}.amazonaws.com/{pool['Id']}",
            ProviderURL=f"https://cognito-idp.{REGION}.amazonaws.com/{pool['Id']}",
            UserPoolId=pool["Id"],
        )


def provision_user_pool_clients(stack: Stack) -> None:
    cognito = stack.client("cognito-idp")
    for logical_id, props, name in stack.declared("AWS::Cognito::UserPoolClient", "ClientName"):
        client = cognito.create_user_pool_client(
            UserPoolId=props["UserPoolId"],
            ClientName=name,
            GenerateSecret=bool(props.get("GenerateSecret", False)),
            ExplicitAuthFlows=list(props.get("ExplicitAuthFlows", [])),
        )["UserPoolClient"]
        stack.add(logical_id, client["ClientId"], ClientId=client["ClientId"], Name=name)


def local_password(customer: str) -> str:
    """The password of local customer `customer` (meets the template's password policy)."""
    return PASSWORD_PREFIX + hashlib.sha256(customer.encode()).hexdigest()[:16] + "A1"


def sign_in(cognito: Any, pool_id: str, client_id: str, customer: str) -> str:
    """A bearer (access) token for local customer `customer`, who is created on first use."""
    password = local_password(customer)
    try:
        cognito.admin_get_user(UserPoolId=pool_id, Username=customer)
    except cognito.exceptions.UserNotFoundException:
        cognito.admin_create_user(UserPoolId=pool_id, Username=customer, MessageAction="SUPPRESS")
        cognito.admin_set_user_password(UserPoolId=pool_id, Username=customer, Password=password, Permanent=True)
    result = cognito.admin_initiate_auth(
        UserPoolId=pool_id,
        ClientId=client_id,
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": customer, "PASSWORD": password},
    )
    return str(result["AuthenticationResult"]["AccessToken"])


def customer_sub(cognito: Any, pool_id: str, customer: str) -> str:
    """The subject (`sub`) of local customer `customer`: the customer id orders carry."""
    attributes = cognito.admin_get_user(UserPoolId=pool_id, Username=customer)["UserAttributes"]
    return str(next(attribute["Value"] for attribute in attributes if attribute["Name"] == "sub"))


@dataclass
class Customers:
    """Local customers of the template's user pool app client: each signs in once, and its token is kept."""

    cognito: Any
    pool_id: str
    client_id: str
    _tokens: dict[str, str] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def of_stack(cls, stack: Stack) -> Customers:
        """The stack's one user pool app client (the JWT authorizer's audience)."""
        clients = list(stack.declared("AWS::Cognito::UserPoolClient"))
        if len(clients) != 1:
            raise LookupError(f"the template has {len(clients)} user pool app clients; sign-in needs exactly one")
        [(logical_id, props, _)] = clients
        return cls(stack.client("cognito-idp"), str(props["UserPoolId"]), str(stack.ref(logical_id)))

    def token(self, customer: str) -> str:
        with self._lock:
            if customer not in self._tokens:
                self._tokens[customer] = sign_in(self.cognito, self.pool_id, self.client_id, customer)
            return self._tokens[customer]

    def headers(self, customer: str) -> dict[str, str]:
        """The Authorization header of a request made by `customer`."""
        return {"Authorization": f"Bearer {self.token(customer)}"}

    def sub(self, customer: str) -> str:
        self.token(customer)
        return customer_sub(self.cognito, self.pool_id, customer)
