-- Seed rows for GET /api/v1/user/info (demo and tests). Idempotent.
INSERT IGNORE INTO users (user_id, name, email, country, created_at) VALUES
  ('6f1c2a9e-8d0b-4c1e-9a57-3f2d1b0c4e11', 'Li Lei', 'li.lei@example.com', 'CN', '2019-03-14 09:26:53'),
  ('0b7e6c1d-3a52-4f8e-b1c9-2d4e6f8a0b13', 'Han Meimei', 'han.meimei@example.com', 'CN', '2019-05-02 18:04:11'),
  ('a3d5f7e9-1b2c-4d6e-8f01-23456789abcd', 'Ada Lovelace', 'ada@example.org', 'GB', '2020-12-10 12:00:00'),
  ('c0ffee00-0000-4000-8000-000000000001', 'José Müller', 'jose.mueller@example.de', 'DE', '2021-07-01 07:30:00');
