// Plain Java, no Android imports: built and unit-tested on any JVM (CI runs run_tests.sh with
// javac + Debian's junit4; `./gradlew :core:test` runs the same tests).
plugins {
    `java-library`
}

java {
    sourceCompatibility = JavaVersion.VERSION_1_8
    targetCompatibility = JavaVersion.VERSION_1_8
}

tasks.named<JavaCompile>("compileJava") {
    // Only the Java 8 API, which Android API 24 provides.
    options.release.set(8)
    options.encoding = "UTF-8"
}

tasks.named<JavaCompile>("compileTestJava") {
    options.release.set(17)
    options.encoding = "UTF-8"
}

dependencies {
    testImplementation(libs.junit)
}

tasks.named<Test>("test") {
    testLogging { events("failed"); showStandardStreams = true }
}
