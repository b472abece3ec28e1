#pragma once
// This process's own counters, from /proc/self.

namespace mlq::test {

// Resident memory backed by files (kB): mapped file pages this process holds (RssFile).
long resident_file_kb();
// Bytes this process has taken in through read() and its kin (rchar of /proc/self/io); pages
// read from a memory mapping do not count.
long long bytes_read();

}  // namespace mlq::test
