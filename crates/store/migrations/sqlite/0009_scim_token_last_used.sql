-- When each token of the service provider last authenticated a request (Unix milliseconds; NULL: never), for the
-- admins' list of tokens. The provider records it at most once a minute per token and node, not per request.
ALTER TABLE scim_tokens ADD COLUMN last_used INTEGER;
