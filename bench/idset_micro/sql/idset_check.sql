-- ===================================================================
-- The duplicate filter (idset.c) against a reference set, key by key:
-- random and structured ids, duplicates at every stage, growth beyond
-- the hint and without one, other keys mixed in, tables filled until a
-- walk gives up.  Any difference is an ERROR.
-- ===================================================================
CREATE FUNCTION idset_check(int) RETURNS text
  AS 'idset_micro' LANGUAGE C STRICT;
SELECT idset_check(1);
SELECT idset_check(2);
