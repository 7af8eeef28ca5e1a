# The Zipkin server the tracing tests send spans to: the official exec jar
# from Maven Central (io.zipkin:zipkin-server, classifier exec), pinned and
# checked against Maven Central's SHA-1, run with the machine's java (17+).
# Included by the Makefile.

ZIPKIN_VERSION := 3.6.1
ZIPKIN_SHA1    := 5800cc1f3d2eb8f38d2d6905d59f9a0414b6d7dd
ZIPKIN_DIR     := $(TOOLS)/zipkin
ZIPKIN_JAR     := $(ZIPKIN_DIR)/zipkin-server-$(ZIPKIN_VERSION)-exec.jar

# Tests find the jar here (tests/need.Zipkin), whatever the version.
export PLANELESS_ZIPKIN_JAR := $(ZIPKIN_DIR)/zipkin-server.jar

##@ Tracing tools

.PHONY: zipkin
zipkin: $(PLANELESS_ZIPKIN_JAR) ## Install the Zipkin server jar into .tools/zipkin/ (needs java 17+ to run).

tools: zipkin

$(PLANELESS_ZIPKIN_JAR): $(ZIPKIN_JAR)
	ln -sf $(notdir $<) $@
	@command -v java >/dev/null || echo "note: the tracing tests run this jar with java 17+ (Debian: apt-get install default-jre-headless)"

$(ZIPKIN_JAR): hack/zipkin.mk
	mkdir -p $(ZIPKIN_DIR)
	curl -fsSL --retry 3 -o $@.tmp https://repo1.maven.org/maven2/io/zipkin/zipkin-server/$(ZIPKIN_VERSION)/zipkin-server-$(ZIPKIN_VERSION)-exec.jar
	echo "$(ZIPKIN_SHA1)  $@.tmp" | sha1sum -c --quiet -
	mv $@.tmp $@
