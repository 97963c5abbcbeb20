"""The public API is what the packages export; changing it is a decision, so it is pinned."""

import cryptorobot
import cryptorobot.adapters
import cryptorobot.auth
import cryptorobot.client
import cryptorobot.errors
import cryptorobot.openapi
import cryptorobot.ratelimit
import cryptorobot.schemas


def test_top_level() -> None:
    assert sorted(cryptorobot.__all__) == sorted([
        "App", "Channel", "Clock", "Connection", "HookContext", "ManualClock", "NOT_SET", "ServiceProxy", "StaticSite",
        "Supervised", "Supervisor", "SystemClock", "TaskCrash", "TaskStatus", "create_web_app", "errors", "serve", "__version__"])
    for name in cryptorobot.__all__:
        assert getattr(cryptorobot, name) is not None


def test_adapters() -> None:
    assert sorted(cryptorobot.adapters.__all__) == [
        "AdapterService", "Index", "MemoryService", "MongoService", "SqliteService"]
    assert issubclass(cryptorobot.adapters.MongoService, cryptorobot.adapters.AdapterService)


def test_auth() -> None:
    assert sorted(cryptorobot.auth.__all__) == [
        "AdapterRevocationStore", "ApiKeyStrategy", "AuthenticationService", "FailureThrottle", "JwtStrategy",
        "LocalStrategy", "MemoryRevocationStore", "RedisRevocationStore", "Revocation", "RevocationStore", "Revocations",
        "Strategy", "ThrottleSettings", "TokenIssuer", "authenticate", "configure_authentication", "generate_api_key",
        "hash_api_key", "hash_password", "password_change", "resolve_secret", "revocation_store", "verify_password"]


def test_client() -> None:
    assert sorted(cryptorobot.client.__all__) == [
        "CLIENT_EVENTS", "CONNECTION_EVENTS", "Client", "Service", "SyncClient", "SyncService", "stringify_query"]
    assert cryptorobot.client.CLIENT_EVENTS == ("connect", "disconnect", "reconnect", "login", "logout")
    public = {name for name in dir(cryptorobot.client.Client) if not name.startswith("_")}
    assert public == {"access_token", "authenticate", "authentication", "close", "connect", "connected", "logout",
                      "off", "on", "service", "sync", "transport"}
    assert {name for name in dir(cryptorobot.client.SyncClient) if not name.startswith("_")} == public - {"sync"} | {"run"}
    methods = {"call", "create", "find", "get", "off", "on", "patch", "remove", "update"}
    assert {name for name in dir(cryptorobot.client.Service) if not name.startswith("_")} == methods
    assert {name for name in dir(cryptorobot.client.SyncService) if not name.startswith("_")} == methods


def test_schemas() -> None:
    assert sorted(cryptorobot.schemas.__all__) == [
        "LIST_OPERATORS", "ORDER_OPERATORS", "QueryRules", "QuerySchema", "SCHEMA_KINDS", "SERVER_FIELDS",
        "SERVER_SET", "Schema", "VALIDATION_FAILED", "ValidationError", "data_schema_for", "default_operators",
        "fields", "load_query", "normalize_schemas", "resolve_result", "schema_hooks", "set_timestamps",
        "validate_data", "validate_query"]


def test_ratelimit() -> None:
    assert sorted(cryptorobot.ratelimit.__all__) == [
        "ANONYMOUS", "Budget", "CHARGED", "CLOSED_EVENT", "CallLimits", "ConnectionCap", "ConnectionRecords",
        "Counters", "EXPIRY_INTERVAL", "MemoryConnections", "MemoryCounters", "RateLimitSettings", "RedisConnections",
        "RedisCounters", "Tier", "Window", "configure_rate_limits", "counters_for", "limit_by", "secret_key"]


def test_openapi() -> None:
    assert sorted(cryptorobot.openapi.__all__) == [
        "ERROR_RESPONSES", "ErrorCode", "OPENAPI_VERSION", "attach_openapi", "openapi_spec"]


def test_errors_keep_feathers_names_and_codes() -> None:
    functions = ("FeathersError", "convert", "from_json", "has_data", "has_errors")
    table = {name: (getattr(cryptorobot.errors, name).name, getattr(cryptorobot.errors, name).code)
             for name in cryptorobot.errors.__all__ if name not in functions}
    assert table == {
        "BadRequest": ("BadRequest", 400), "NotAuthenticated": ("NotAuthenticated", 401),
        "PaymentError": ("PaymentError", 402), "Forbidden": ("Forbidden", 403), "NotFound": ("NotFound", 404),
        "MethodNotAllowed": ("MethodNotAllowed", 405), "NotAcceptable": ("NotAcceptable", 406),
        "Timeout": ("Timeout", 408), "Conflict": ("Conflict", 409), "Gone": ("Gone", 410),
        "LengthRequired": ("LengthRequired", 411), "PayloadTooLarge": ("PayloadTooLarge", 413),
        "Unprocessable": ("Unprocessable", 422), "TooManyRequests": ("TooManyRequests", 429),
        # refinements: the wire sees TooManyRequests
        "RateLimitExceeded": ("TooManyRequests", 429), "TooManyAttempts": ("TooManyRequests", 429),
        "TooManyCallsInFlight": ("TooManyRequests", 429), "ConnectionLimitExceeded": ("TooManyRequests", 429),
        "GeneralError": ("GeneralError", 500), "NotImplementedError_": ("NotImplemented", 501),
        "BadGateway": ("BadGateway", 502), "Unavailable": ("Unavailable", 503)}
