-- Up Migration
-- Responses API answers kept per tenant for GET /v1/responses/{id} and previous_response_id. JSON is
-- kept as text: it is stored and returned whole, never queried.
CREATE TABLE responses (
  tenant_id      text NOT NULL,
  id             text NOT NULL,
  previous_id    text NOT NULL DEFAULT '',
  model          text NOT NULL DEFAULT '',
  provider       text NOT NULL DEFAULT '',
  input_json     text NOT NULL,
  response_json  text NOT NULL,
  created_at     timestamptz NOT NULL,
  expires_at     timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX responses_expires_idx ON responses (expires_at);

-- Down Migration
DROP TABLE responses;
