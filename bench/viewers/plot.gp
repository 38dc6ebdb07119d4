# A cdn-viewers run over time (the --series TSV), as one PNG:
#   gnuplot -e "series='run.tsv'; out='run.png'; title='...'" bench/viewers/plot.gp
# Columns: t playing joins segments egress_mbit_s segment_p99_ms startup_p99_ms stalls errors
#          edge_cpu_pct edge_rss_mib edge_wait_pct
set terminal pngcairo size 1100,1300 font ",10" noenhanced
set output out
set datafile separator "\t"
set key top left
set grid
set xlabel "seconds"
set multiplot layout 5,1 title title
set ylabel "viewers"
plot series using 1:2 every ::1 with lines lw 2 title "playing", \
     series using 1:3 every ::1 with impulses title "joins/s"
set ylabel "Mbit/s"
plot series using 1:5 every ::1 with lines lw 2 title "egress (read by the players, TLS included)"
set ylabel "ms"
set logscale y
plot series using 1:6 every ::1 with lines lw 2 title "segment download p99"
unset logscale y
set ylabel "per second"
set yrange [0:1<*]
plot series using 1:8 every ::1 with impulses lw 2 title "stalls", \
     series using 1:9 every ::1 with impulses lw 2 title "errors"
set autoscale y
set ylabel "edge"
set y2label "MiB"
set y2tics
plot series using 1:10 every ::1 with lines lw 2 title "CPU % of one core", \
     series using 1:12 every ::1 with lines lw 1 title "waiting for a CPU, %", \
     series using 1:11 every ::1 axes x1y2 with lines lw 2 title "RSS (MiB, right)"
unset multiplot
