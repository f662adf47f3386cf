-- The generated district of bench/oneroster_rest.py; the braced names are integers it fills in.
INSERT INTO organizations (sourced_id, name, type, identifier, date_last_modified)
  VALUES ('bo-d', 'Bench District', 'district', 'BD', now());
INSERT INTO organizations (sourced_id, name, type, identifier, parent_id, date_last_modified)
  SELECT 'bo-s' || i, 'School ' || i, 'school', 'BS' || i, 'bo-d', now() FROM generate_series(1, {schools}) i;
INSERT INTO academic_sessions (sourced_id, title, type, start_date, end_date, school_year)
  VALUES ('ba-t1', 'Fall', 'term', '2025-08-01', '2025-12-20', '2026');
INSERT INTO oneroster_courses (sourced_id, title, course_code, org_sourced_id)
  SELECT 'bc-' || i, 'Course ' || i, 'C' || i, 'bo-s' || (1 + i % {schools}) FROM generate_series(1, {classes}) i;
INSERT INTO classes (sourced_id, title, class_code, course_sourced_id, school_sourced_id, term_sourced_ids, grades)
  SELECT 'bk-' || lpad(i::text, 6, '0'), 'Class ' || i, 'K' || i, 'bc-' || i, 'bo-s' || (1 + i % {schools}),
         '["ba-t1"]', jsonb_build_array(lpad((1 + i % 12)::text, 2, '0'))
    FROM generate_series(1, {classes}) i;
INSERT INTO users (sourced_id, username, given_name, family_name, role, identifier, email, enabled_user,
                   org_ids, grades, user_ids, date_last_modified)
  SELECT 'bu-' || lpad(i::text, 7, '0'), 'user' || i, 'Given' || i, 'Family' || (i % 997),
         CASE WHEN i <= {students} THEN 'student' WHEN i <= {students_and_teachers} THEN 'teacher' ELSE 'parent' END,
         'ID' || i, 'user' || i || '@bench.example', true,
         jsonb_build_array('bo-s' || (1 + i % {schools})), jsonb_build_array(lpad((1 + i % 12)::text, 2, '0')),
         jsonb_build_array(jsonb_build_object('type', 'LDAP', 'identifier', 'u' || i)),
         timestamptz '2026-01-01' + (i || ' seconds')::interval
    FROM generate_series(1, {users}) i;
-- student i takes CLASSES_PER_STUDENT distinct classes of their own school (class k is in
-- school 1 + k % SCHOOLS, so k ≡ i mod SCHOOLS; k = 0 stands for the last class)
INSERT INTO enrollments (sourced_id, user_sourced_id, class_sourced_id, school_sourced_id, role, "primary")
  SELECT 'be-' || i || '-' || j, 'bu-' || lpad(i::text, 7, '0'),
         'bk-' || lpad((CASE WHEN k = 0 THEN {classes} ELSE k END)::text, 6, '0'),
         'bo-s' || (1 + i % {schools}), 'student', false
    FROM (SELECT i, j, (i % {schools}) + {schools} * ((i / {schools} + j * 7) % {classes_per_school}) AS k
            FROM generate_series(1, {students}) i, generate_series(0, {last_j}) j) s;
INSERT INTO enrollments (sourced_id, user_sourced_id, class_sourced_id, school_sourced_id, role, "primary")
  SELECT 'be-t' || k, 'bu-' || lpad(({students} + 1 + k % {teachers})::text, 7, '0'),
         'bk-' || lpad(k::text, 6, '0'), 'bo-s' || (1 + k % {schools}), 'teacher', true
    FROM generate_series(1, {classes}) k;
