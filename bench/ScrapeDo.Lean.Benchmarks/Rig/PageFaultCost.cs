using System.Diagnostics;
using System.Runtime.InteropServices;

namespace ScrapeDo.Lean.Benchmarks.Rig;

/// <summary>
/// What a first touch of a fresh page of memory costs on this machine: the price of each minor page fault the fan-out
/// rows count. The GC clears the gen0 memory it hands out, and memory it had given back faults again on that clearing
/// (docs/benchmarks.md), so on a machine where a fault is dear a contender's CPU follows its fresh gen0 memory as much as
/// its own work. On bare-metal Linux a fault costs well under a microsecond; on the project VM (a PVM guest with page
/// table isolation) it measured 10–20.
/// </summary>
public static class PageFaultCost
{
    private const int ProtReadWrite = 0x1 | 0x2;
    private const int MapPrivateAnonymous = 0x02 | 0x20;
    private const nuint Bytes = 64 * 1024 * 1024;

    /// <summary>
    /// The median of 5 times, in µs per page, of writing one byte to each page of a freshly mapped 64 MiB region (each
    /// write faults in and zeroes a page, as a collection's clearing of released gen0 memory does); NaN off Linux.
    /// </summary>
    public static double MeasureMicroseconds()
    {
        if (!OperatingSystem.IsLinux())
        {
            return double.NaN;
        }

        int page = Environment.SystemPageSize;
        var times = new double[5];
        for (int i = 0; i < times.Length; i++)
        {
            nint region = mmap(0, Bytes, ProtReadWrite, MapPrivateAnonymous, -1, 0);
            if (region == -1)
            {
                return double.NaN;
            }

            try
            {
                long start = Stopwatch.GetTimestamp();
                for (nuint offset = 0; offset < Bytes; offset += (nuint)page)
                {
                    Marshal.WriteByte(region + (nint)offset, 1);
                }

                times[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds / (double)(Bytes / (nuint)page);
            }
            finally
            {
                _ = munmap(region, Bytes);
            }
        }

        Array.Sort(times);
        return times[times.Length / 2];
    }

    [DllImport("libc", SetLastError = true)]
    private static extern nint mmap(nint address, nuint length, int protection, int flags, int fd, nint offset);

    [DllImport("libc", SetLastError = true)]
    private static extern int munmap(nint address, nuint length);
}
