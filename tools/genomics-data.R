#!/usr/bin/Rscript
# genomics-data.R -- writes snpStats' for.exercise genotypes (1,000 subjects x
# 28,501 SNPs of chromosome 10, Debian package r-bioc-snpstats) as
#
#   genotypes.h5        spex's genotype layout (doc/genomics.md, "The genotype
#                       file"): /genotypes uint8 [subjects x SNPs], 0/1/2 =
#                       copies of allele 2, 255 = missing; /snps/{name,
#                       chromosome,position,allele1,allele2}; /subjects/{id,
#                       stratum}; /phenotype uint8 (1 = case, 0 = control)
#   forex.bed/.bim/.fam PLINK 1 binary files of the same genotypes
#                       (snpStats::write.plink), phenotype 2 = case, 1 = control
#   names.txt           the rs ids, one per line (spex's features.names)
#
# The data set is shipped inside the Debian package, so this needs no network.
# Usage:  tools/genomics-data.R [--out DIR] [--sex CODE]
#   --out DIR   output directory (default: inputs/genomics/data of this tree)
#   --sex CODE  PLINK sex code written for every subject (1 male, 2 female;
#               default 2).  for.exercise records no sex; write.plink needs
#               one and PLINK treats an unknown sex as a missing phenotype.
#               Chromosome 10 is autosomal, so the choice changes no test.
# Needs r-base-core, r-bioc-snpstats and r-cran-hdf5r.

fail <- function(...) {
    cat("genomics-data.R: ", ..., "\n", sep = "", file = stderr())
    quit(status = 1)
}

args <- commandArgs(trailingOnly = TRUE)
script <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
tree <- if (length(script) == 1) normalizePath(file.path(dirname(script), "..")) else getwd()
out <- file.path(tree, "inputs", "genomics", "data")
sex <- 2L
i <- 1
while (i <= length(args)) {
    a <- args[i]
    if (a %in% c("-h", "--help")) {
        cat("usage: tools/genomics-data.R [--out DIR] [--sex CODE]\n",
            "writes genotypes.h5, forex.bed/.bim/.fam and names.txt from snpStats' for.exercise\n",
            sep = "")
        quit(status = 0)
    } else if (a == "--out" && i < length(args)) {
        out <- args[i + 1]; i <- i + 1
    } else if (a == "--sex" && i < length(args)) {
        sex <- suppressWarnings(as.integer(args[i + 1])); i <- i + 1
        if (is.na(sex) || !(sex %in% c(1L, 2L))) fail("--sex must be 1 or 2")
    } else {
        fail("unknown argument '", a, "' (try --help)")
    }
    i <- i + 1
}

for (p in c("snpStats", "hdf5r"))
    if (!requireNamespace(p, quietly = TRUE))
        fail("R package '", p, "' is missing: apt-get install ",
             if (p == "snpStats") "r-bioc-snpstats" else "r-cran-hdf5r")
suppressPackageStartupMessages({
    library(snpStats)
    library(hdf5r)
})
dir.create(out, recursive = TRUE, showWarnings = FALSE)
if (!dir.exists(out)) fail("cannot create '", out, "'")

data(for.exercise, package = "snpStats", envir = environment())
snps <- snps.10
stopifnot(identical(rownames(snps), rownames(subject.support)),
          identical(colnames(snps), rownames(snp.support)))
nsub <- nrow(snps)
nsnp <- ncol(snps)

# snpStats codes a call as a raw byte: 0 missing, 1 = A1/A1, 2 = A1/A2,
# 3 = A2/A2, so copies of allele 2 = code - 1 (what as(snps, "numeric") gives).
code <- matrix(as.integer(snps@.Data), nrow = nsub)
geno <- code - 1L
geno[code == 0L] <- 255L

# hdf5r writes an R matrix with its dimensions reversed (R is column-major,
# HDF5 row-major), so the SNPs x subjects transpose lands as subjects x SNPs.
fixed_strings <- function(x) {
    t <- H5T_STRING$new(type = "c", size = max(2L, max(nchar(x, type = "bytes")) + 1L))
    t$set_cset("UTF-8")
    t
}
put_strings <- function(where, name, x)
    invisible(where$create_dataset(name, robj = as.character(x), dtype = fixed_strings(x),
                                   chunk_dims = NULL))
put_attr <- function(obj, name, value, dtype)
    invisible(obj$create_attr(name, robj = value, dtype = dtype, space = H5S$new("scalar")))

h5path <- file.path(out, "genotypes.h5")
tmp <- paste0(h5path, ".tmp")
f <- H5File$new(tmp, mode = "w")
invisible(f$create_dataset("genotypes", robj = t(geno), dtype = h5types$H5T_NATIVE_UINT8,
                           chunk_dims = NULL))
s <- f$create_group("snps")
put_strings(s, "name", colnames(snps))
put_strings(s, "chromosome", as.character(snp.support$chromosome))
invisible(s$create_dataset("position", robj = as.integer(snp.support$position),
                 dtype = h5types$H5T_NATIVE_INT32, chunk_dims = NULL))
put_strings(s, "allele1", as.character(snp.support$A1))
put_strings(s, "allele2", as.character(snp.support$A2))
g <- f$create_group("subjects")
put_strings(g, "id", rownames(snps))
put_strings(g, "stratum", as.character(subject.support$stratum))
invisible(f$create_dataset("phenotype", robj = as.integer(subject.support$cc),
                           dtype = h5types$H5T_NATIVE_UINT8, chunk_dims = NULL))
src <- sprintf("snpStats %s for.exercise (Debian r-bioc-snpstats, GPL-3)",
               as.character(packageVersion("snpStats")))
put_attr(f, "format", "spex-genotypes", fixed_strings("spex-genotypes"))
put_attr(f, "format_version", 1L, h5types$H5T_NATIVE_INT32)
put_attr(f, "source", src, fixed_strings(src))
put_attr(f, "missing", 255L, h5types$H5T_NATIVE_UINT8)
f$close_all()
if (!file.rename(tmp, h5path)) fail("cannot rename '", tmp, "' to '", h5path, "'")

# PLINK: FID = IID = the subject id, no parents, phenotype 2 case / 1 control.
ids <- rownames(snps)
# write.plink reports each file on stdout; keep stdout for our one summary line.
invisible(capture.output(write.plink(file.path(out, "forex"), snp.major = TRUE, snps = snps,
            pedigree = ids, id = ids, father = rep(0L, nsub), mother = rep(0L, nsub),
            sex = rep(sex, nsub), phenotype = subject.support$cc + 1L,
            chromosome = snp.support$chromosome, genetic.distance = rep(0, nsnp),
            position = snp.support$position,
            allele.1 = as.character(snp.support$A1), allele.2 = as.character(snp.support$A2))))

writeLines(colnames(snps), file.path(out, "names.txt"))
# features.positions: NAME CHROMOSOME POSITION, one line per SNP in column order.
writeLines(c("# name chromosome position",
             sprintf("%s %s %d", colnames(snps), as.character(snp.support$chromosome),
                     as.integer(snp.support$position))),
           file.path(out, "positions.txt"))
cat(sprintf("genomics-data.R: %d subjects (%d cases) x %d SNPs, %.2f%% calls missing -> %s\n",
            nsub, sum(subject.support$cc), nsnp, 100 * mean(code == 0L), out))
