"""bandsaw against one rank, OpenCV and Dask: the benchmark behind bench-results/.

    scripts/bench.sh                 # venv, release build, then this script with the defaults
    python3 scripts/bench.py --quick # 1 and 16 MP, fewer runs (development)
    python3 scripts/bench.py --sizes 1,16 --runs 3 --no-dask

What it does (see --help for every knob):

* Test images of about 1, 16 and 64 megapixels (1024^2, 4096^2, 8192^2, RGB PNG) built from the
  real photos in Tests/Fixtures/photos/: each 256x256 crop upscaled 4x with Pillow LANCZOS, the two
  side by side, mirror-tiled to size, plus mild Gaussian noise (sigma 3) so deflate has real work.
  Saved under bench-results/tmp/ (gitignored), rebuilt only when missing.
* Cases sobel, gaussian:sigma=8, median:size=15. bandsaw alone (no mpirun: the single-process
  baseline) and under `mpirun -np 1, 2, 4` (4 ranks on 2 cores are oversubscribed). Each cell runs
  --runs times: median, min and max of the whole command's wall time (process launch to exit, by
  Python) and of bandsaw's own total, the per-phase split from --report (max over ranks), and the
  peak RSS of every rank (/usr/bin/time -f %M around each rank). Every output is compared pixel
  for pixel with the single-process output.
* --encode serial against parallel (2 ranks, each filter, at 16 MP) and --compression 6 against
  the default 1 (sobel, 16 MP).
* OpenCV: one Python process per run doing imread + filter + imwrite (cv2.setNumThreads(1)),
  timed whole (launch to exit) and inside (imread..imwrite, compute alone), compared with bandsaw.
* Dask: LocalCluster(n_workers=N, threads_per_worker=1, processes=True), N = 2 and 4, imread in the
  client, from_array + map_overlap(depth = bandsaw's halo rows, boundary='nearest') with OpenCV
  per-chunk kernels, compute, imwrite; start-up timed apart.
* `--cases canny` (not a default): canny:low=50,high=150 the same way, without Dask; OpenCV's
  gray is cvtColor's, so its edges differ from bandsaw's (luma) in a few pixels (vs_bandsaw).
* Break-even: sobel at 0.06, 0.25, 1, 4, 16 MP, 1 process against 2 ranks.
* Shared decode (at 16 MP, each case): the photo as Pillow wrote it (no restart points: rank 0
  inflates, every rank unfilters its rows) and as bandsaw wrote it (restart points: every rank
  decodes its own segments), each as 1 process, 2 ranks with --decode whole (rank 0 decodes
  alone, the old path) and 2 ranks with the default --decode auto.

Outputs: bench-results/results.json (everything raw), results.md, speedup.png, phases.png.
"""

# The package, by what each part does: cli (options and the measuring loop), runner (bandsaw
# cells, and the phase list read from the engine's own report), peers (OpenCV and Dask),
# machine (probes and the idle wait), images (synthetic test images, pixel comparison),
# markdown (results.md), plots (speedup.png, phases.png), sections/ (one module per extra
# measurement and its part of results.md; adding one is a module plus a line in SECTIONS).
