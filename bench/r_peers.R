# The R side of bench/bench_digits_peers.sh: Rtsne (Barnes-Hut t-SNE, the bhtsne C++ code) and
# uwot (UMAP) from Debian's r-cran-rtsne and r-cran-uwot, each with its defaults except the
# thread count, on a CSV of features. Prints one line per method: "name seconds", and writes
# each embedding as a headerless CSV next to OUT_PREFIX.
#
#   Rscript bench/r_peers.R X.csv OUT_PREFIX THREADS
#
# Rtsne: perplexity 30, theta 0.5, max_iter 1000, pca = TRUE (PCA to 50 dimensions first, its
# default), num_threads = THREADS. uwot: n_neighbors 15, min_dist 0.1, n_threads = THREADS,
# n_sgd_threads = THREADS. Seeds fixed with set.seed(0). Loading is not timed.
args <- commandArgs(trailingOnly = TRUE)
x <- as.matrix(read.csv(args[1], header = FALSE))
prefix <- args[2]
threads <- as.integer(args[3])
suppressPackageStartupMessages({
  library(Rtsne)
  library(uwot)
})

set.seed(0)
t <- system.time(e <- Rtsne(x, dims = 2, perplexity = 30, theta = 0.5, max_iter = 1000,
                            check_duplicates = FALSE, num_threads = threads))[["elapsed"]]
write.table(e$Y, paste0(prefix, "rtsne.csv"), sep = ",", row.names = FALSE, col.names = FALSE)
cat("rtsne", t, "\n")

set.seed(0)
t <- system.time(u <- umap(x, n_neighbors = 15, min_dist = 0.1, n_threads = threads,
                           n_sgd_threads = threads))[["elapsed"]]
write.table(u, paste0(prefix, "uwot.csv"), sep = ",", row.names = FALSE, col.names = FALSE)
cat("uwot", t, "\n")
