#!/usr/bin/env bash
# Compile the plain-Java core (Java 8 API level, as Android API 24 needs) and its JUnit 4 tests
# with javac, then run them with Debian's junit4 + hamcrest. No Gradle, no network.
# Exit status: 0 when every test passes, non-zero otherwise. Prints JUnit's summary line.
#
#   android_demo/core/run_tests.sh            # build output in android_demo/core/build/plain-javac
#   BUILD_DIR=/tmp/x android_demo/core/run_tests.sh
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
build="${BUILD_DIR:-$here/build/plain-javac}"
junit="${JUNIT_JAR:-/usr/share/java/junit4.jar}"
hamcrest="${HAMCREST_JAR:-}"
if [[ -z "$hamcrest" ]]; then
    for candidate in /usr/share/java/hamcrest-core.jar /usr/share/java/hamcrest.jar /usr/share/java/hamcrest-all.jar; do
        if [[ -f "$candidate" ]]; then hamcrest="$candidate"; break; fi
    done
fi

for tool in javac java; do
    command -v "$tool" >/dev/null || { echo "run_tests.sh: $tool not found (install a JDK 17)" >&2; exit 3; }
done
[[ -f "$junit" ]] || { echo "run_tests.sh: $junit not found (apt-get install junit4)" >&2; exit 3; }
[[ -n "$hamcrest" && -f "$hamcrest" ]] || { echo "run_tests.sh: hamcrest jar not found (apt-get install junit4)" >&2; exit 3; }

rm -rf "$build"
mkdir -p "$build/main" "$build/test"

mapfile -t main_sources < <(find "$here/src/main/java" -name '*.java' | sort)
mapfile -t test_sources < <(find "$here/src/test/java" -name '*.java' | sort)

# --release 8: the core may only use the Java 8 API (what Android API 24 offers).
javac --release 8 -Xlint:all -Xlint:-options -Werror -encoding UTF-8 -d "$build/main" "${main_sources[@]}"
javac --release 17 -encoding UTF-8 -cp "$build/main:$junit:$hamcrest" -d "$build/test" "${test_sources[@]}"

classes=()
for f in "${test_sources[@]}"; do
    name="$(basename "$f" .java)"
    [[ "$name" == *Test ]] || continue
    rel="${f#"$here/src/test/java/"}"
    classes+=("$(dirname "$rel" | tr / .).$name")
done

echo "run_tests.sh: ${#main_sources[@]} core sources, ${#classes[@]} test classes"
exec java -ea -Dfile.encoding=UTF-8 -cp "$build/test:$build/main:$here/src/test/resources:$junit:$hamcrest" \
    org.junit.runner.JUnitCore "${classes[@]}"
