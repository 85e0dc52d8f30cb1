// Kernel benchmark: megapixels per second per filter, single-threaded. (Filled in by the kernel work.)
import ImageCore
print("bandsaw-bench: no benchmarks yet")
