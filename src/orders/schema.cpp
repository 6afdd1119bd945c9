// The orders module's tables.
#include "orders/internal.h"

namespace shouhou::orders::detail {

std::vector<store::Migration> migrations() {
  return {{"orders", 1, "service orders, workflows, timeline, tasks, notes, attachments, charges, fault codes, leads",
           R"sql(
CREATE TABLE workflows (
  id INTEGER PRIMARY KEY,
  code TEXT NOT NULL,
  wf_version INTEGER NOT NULL,
  name TEXT NOT NULL,
  order_types_json TEXT NOT NULL,
  initial_state TEXT NOT NULL,
  source TEXT NOT NULL,
  org_path TEXT NOT NULL,
  created_by INTEGER,
  version INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE (code, wf_version)
) STRICT;
CREATE TABLE workflow_states (
  id INTEGER PRIMARY KEY,
  workflow_id INTEGER NOT NULL REFERENCES workflows(id),
  code TEXT NOT NULL,
  name TEXT NOT NULL,
  name_en TEXT NOT NULL,
  final INTEGER NOT NULL DEFAULT 0,
  paused INTEGER NOT NULL DEFAULT 0,
  required_fields_json TEXT NOT NULL DEFAULT '[]',
  timer_minutes INTEGER NOT NULL DEFAULT 0,
  timer_action TEXT,
  sort_order INTEGER NOT NULL,
  UNIQUE (workflow_id, code)
) STRICT;
CREATE TABLE workflow_transitions (
  id INTEGER PRIMARY KEY,
  workflow_id INTEGER NOT NULL REFERENCES workflows(id),
  action TEXT NOT NULL,
  from_state TEXT NOT NULL,
  to_state TEXT NOT NULL,
  permission TEXT NOT NULL,
  name TEXT NOT NULL,
  name_en TEXT NOT NULL,
  sort_order INTEGER NOT NULL,
  UNIQUE (workflow_id, from_state, action)
) STRICT;
CREATE TABLE workflow_bindings (
  order_type TEXT PRIMARY KEY,
  workflow_id INTEGER NOT NULL REFERENCES workflows(id),
  updated_at INTEGER NOT NULL
) STRICT;
CREATE TABLE order_types (
  code TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  name_en TEXT NOT NULL,
  required_fields_json TEXT NOT NULL,
  org_path TEXT NOT NULL DEFAULT '/',
  version INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL DEFAULT 0,
  updated_at INTEGER NOT NULL DEFAULT 0
) STRICT;
INSERT INTO order_types (code, name, name_en, required_fields_json) VALUES
  ('installation', '安装', 'Installation', '["customer_id","contact.phone","site.address"]'),
  ('delivery', '送货', 'Delivery', '["customer_id","contact.phone","site.address"]'),
  ('repair', '维修', 'Repair', '["customer_id","contact.phone","site.address","serial","problem_area","description"]'),
  ('return_exchange', '退换货', 'Return / exchange', '["customer_id","contact.phone","serial","description"]'),
  ('maintenance', '保养', 'Maintenance', '["customer_id","site.address","serial"]'),
  ('inspection', '巡检', 'Inspection', '["customer_id","site.address","serial"]'),
  ('startup', '开机调试', 'Start-up', '["customer_id","site.address","serial"]'),
  ('complaint', '投诉', 'Complaint', '["customer_id","contact.phone","description"]'),
  ('consultation', '咨询', 'Consultation', '["contact.phone","description"]');
CREATE TABLE order_settings (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  rounding TEXT NOT NULL,
  org_path TEXT NOT NULL DEFAULT '/',
  version INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL DEFAULT 0,
  updated_at INTEGER NOT NULL DEFAULT 0
) STRICT;
INSERT INTO order_settings (id, rounding) VALUES (1, 'yuan_down');
CREATE TABLE order_number_seq (
  day TEXT PRIMARY KEY,
  n INTEGER NOT NULL
) STRICT;
CREATE TABLE service_orders (
  id INTEGER PRIMARY KEY,
  number TEXT NOT NULL UNIQUE,
  type TEXT NOT NULL,
  channel TEXT NOT NULL,
  state TEXT NOT NULL,
  workflow_id INTEGER NOT NULL REFERENCES workflows(id),
  state_entered_at INTEGER NOT NULL,
  customer_id INTEGER REFERENCES customers(id),
  contact_json TEXT NOT NULL DEFAULT '{}',
  site_json TEXT NOT NULL DEFAULT '{}',
  county_code TEXT,
  asset_id INTEGER,
  serial TEXT,
  model_id INTEGER,
  product_line_id INTEGER,
  contract_id INTEGER,
  warranty TEXT NOT NULL DEFAULT 'unknown',
  priority TEXT NOT NULL,
  severity TEXT NOT NULL,
  reproducibility TEXT,
  problem_area TEXT,
  problem_subarea TEXT,
  description TEXT,
  summary TEXT,
  expected_at INTEGER,
  org_unit_id INTEGER NOT NULL,
  org_path TEXT NOT NULL,
  provider_unit_id INTEGER,
  engineer_id INTEGER,
  claim_status TEXT NOT NULL DEFAULT 'none',
  response_due_at INTEGER NOT NULL DEFAULT 0,
  resolve_due_at INTEGER NOT NULL DEFAULT 0,
  sla_status TEXT NOT NULL DEFAULT 'ok',
  decision_json TEXT,
  fields_json TEXT NOT NULL DEFAULT '{}',
  completion_json TEXT,
  satisfaction_json TEXT,
  completed_at INTEGER,
  closed_at INTEGER,
  created_by INTEGER,
  version INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
CREATE INDEX service_orders_org_path ON service_orders(org_path);
CREATE INDEX service_orders_customer ON service_orders(customer_id);
CREATE INDEX service_orders_serial ON service_orders(serial);
CREATE INDEX service_orders_engineer ON service_orders(engineer_id);
CREATE INDEX service_orders_provider ON service_orders(provider_unit_id);
CREATE INDEX service_orders_timer ON service_orders(workflow_id, state, state_entered_at);
CREATE TABLE order_timeline (
  id INTEGER PRIMARY KEY,
  order_id INTEGER NOT NULL REFERENCES service_orders(id),
  org_path TEXT NOT NULL,
  at INTEGER NOT NULL,
  kind TEXT NOT NULL,
  action TEXT,
  from_state TEXT,
  to_state TEXT,
  user_id INTEGER,
  username TEXT NOT NULL,
  result TEXT NOT NULL DEFAULT 'ok',
  remark TEXT,
  detail_json TEXT
) STRICT;
CREATE INDEX order_timeline_order ON order_timeline(order_id, id);
CREATE TABLE order_tasks (
  id INTEGER PRIMARY KEY,
  order_id INTEGER NOT NULL REFERENCES service_orders(id),
  org_path TEXT NOT NULL,
  subject TEXT NOT NULL,
  mode TEXT NOT NULL CHECK (mode IN ('on_site','depot')),
  assignee_id INTEGER REFERENCES users(id),
  planned_start INTEGER,
  actual_start INTEGER,
  actual_end INTEGER,
  status TEXT NOT NULL,
  remarks TEXT,
  version INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
CREATE INDEX order_tasks_order ON order_tasks(order_id);
CREATE TABLE order_notes (
  id INTEGER PRIMARY KEY,
  order_id INTEGER NOT NULL REFERENCES service_orders(id),
  org_path TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('general','warning')),
  body TEXT NOT NULL,
  author_id INTEGER,
  author_name TEXT NOT NULL,
  version INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
CREATE INDEX order_notes_order ON order_notes(order_id);
CREATE TABLE order_attachments (
  id INTEGER PRIMARY KEY,
  order_id INTEGER NOT NULL REFERENCES service_orders(id),
  org_path TEXT NOT NULL,
  name TEXT NOT NULL,
  kind TEXT NOT NULL,
  content_type TEXT NOT NULL,
  size INTEGER NOT NULL,
  data BLOB NOT NULL,
  uploaded_by INTEGER,
  version INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
CREATE INDEX order_attachments_order ON order_attachments(order_id);
CREATE TABLE order_charges (
  id INTEGER PRIMARY KEY,
  order_id INTEGER NOT NULL REFERENCES service_orders(id),
  org_path TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('part','service')),
  code TEXT NOT NULL,
  name TEXT NOT NULL,
  unit TEXT,
  service_item_id INTEGER,
  grade TEXT,
  quantity INTEGER NOT NULL,
  unit_price_fen INTEGER NOT NULL,
  amount_fen INTEGER NOT NULL,
  remark TEXT,
  sort_order INTEGER NOT NULL,
  version INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
CREATE INDEX order_charges_order ON order_charges(order_id);
CREATE TABLE order_maintenance (
  id INTEGER PRIMARY KEY,
  order_id INTEGER NOT NULL REFERENCES service_orders(id),
  org_path TEXT NOT NULL,
  asset_id INTEGER,
  performed_on TEXT NOT NULL,
  type TEXT NOT NULL,
  summary TEXT NOT NULL,
  quantity INTEGER NOT NULL DEFAULT 1,
  performed_by TEXT NOT NULL,
  version INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
CREATE INDEX order_maintenance_order ON order_maintenance(order_id);
CREATE TABLE fault_codes (
  id INTEGER PRIMARY KEY,
  org_path TEXT NOT NULL,
  product_line_id INTEGER NOT NULL REFERENCES product_lines(id),
  parent_id INTEGER REFERENCES fault_codes(id),
  level TEXT NOT NULL CHECK (level IN ('symptom','cause')),
  code TEXT NOT NULL,
  name TEXT NOT NULL,
  active INTEGER NOT NULL DEFAULT 1,
  version INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE (product_line_id, code)
) STRICT;
CREATE INDEX fault_codes_parent ON fault_codes(parent_id);
CREATE TABLE sales_leads (
  id INTEGER PRIMARY KEY,
  org_path TEXT NOT NULL,
  order_id INTEGER REFERENCES service_orders(id),
  customer_id INTEGER REFERENCES customers(id),
  product_interest TEXT NOT NULL,
  note TEXT,
  status TEXT NOT NULL DEFAULT 'new',
  created_by INTEGER,
  created_by_name TEXT NOT NULL,
  version INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
CREATE INDEX sales_leads_org_path ON sales_leads(org_path);
)sql"},
          // The order list filtered by state and type, newest first (the
          // dispatcher's and auditor's queues): a probe instead of a walk of
          // service_orders by id.
          {"orders", 2, "order list index by state, type, id",
           "CREATE INDEX service_orders_state_type ON service_orders(state, type, id)"},
          // PostgreSQL numbering (next_number): per China day the first value
          // drawn from this table's identity sequence; unused on SQLite.
          {"orders", 3, "order number base per day (PostgreSQL numbering without a hot row)",
           "CREATE TABLE order_number_base (id INTEGER PRIMARY KEY, day TEXT NOT NULL UNIQUE, base INTEGER NOT NULL) STRICT"}};
}

}  // namespace shouhou::orders::detail
