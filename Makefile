# rds_task_fdw/Makefile
#
# PGXS build of the extension.  libcurl comes from curl-config, json-c from
# pkg-config; both are needed at build and run time.

MODULE_big = rds_task_fdw
OBJS = \
	$(WIN32RES) \
	analyze.o \
	bucket.o \
	auth.o \
	cache.o \
	client.o \
	connection.o \
	convert.o \
	decode.o \
	deparse.o \
	gate.o \
	groupagg.o \
	groupcount.o \
	grouppath.o \
	groupresult.o \
	http.o \
	http_callbacks.o \
	idset.o \
	option.o \
	outcome.o \
	pager.o \
	plan.o \
	planner.o \
	rds_task_fdw.o \
	scan.o \
	search.o \
	shared.o \
	stats.o \
	waitfd.o

EXTENSION = rds_task_fdw
DATA = rds_task_fdw--1.0.sql rds_task_fdw--1.0--1.1.sql rds_task_fdw--1.1--1.2.sql \
	rds_task_fdw--1.2--1.3.sql rds_task_fdw--1.3--1.4.sql
PGFILEDESC = "rds_task_fdw - foreign data wrapper for the OTC RDS task list"

CURL_CONFIG ?= curl-config
PKG_CONFIG ?= pkg-config

PG_CPPFLAGS = $(shell $(CURL_CONFIG) --cflags) $(shell $(PKG_CONFIG) --cflags json-c)
SHLIB_LINK = $(shell $(CURL_CONFIG) --libs) $(shell $(PKG_CONFIG) --libs json-c)
PG_CFLAGS = -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers
# the test runner builds with RDS_WERROR=1: a warning fails the build
ifdef RDS_WERROR
PG_CFLAGS += -Werror
endif

REGRESS_OPTS = --load-extension=rds_task_fdw
REGRESS = options import scan types timestamps auth errors pushdown groupcount partition analyze history search bucket upgrade

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# every object depends on the shared headers; the client's on its private one
$(filter %.o,$(OBJS)): rds_task_fdw.h rds_compat.h
auth.o client.o connection.o http.o http_callbacks.o waitfd.o: rds_http.h
http.o http_callbacks.o: rds_transport.h
groupcount.o groupresult.o: groupresult.h
planner.o grouppath.o: planner.h
