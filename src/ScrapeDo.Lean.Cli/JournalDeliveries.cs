using System.Text.Json;
using ScrapeDo.Lean.Internal.Json;
using ScrapeDo.Lean.Internal.Runner;

namespace ScrapeDo.Lean.Cli;

/// <summary>
/// Reads, without writing or locking it, how many inputs a journal records as delivered, so <c>--resume</c> can check
/// <c>--output</c> against it before anything is sent. The runner opens the journal itself later; this is only a count.
/// </summary>
internal static class JournalDeliveries
{
    /// <summary>
    /// The number of distinct input indices with a <c>done</c> entry, or null when the file cannot be read as a journal
    /// (the runner then reports what is wrong with it, in its own words). A torn last line is ignored, as the runner does.
    /// </summary>
    public static long? Count(string path)
    {
        // The journal's own bitmap, so a journal of millions of inputs is counted in flat memory and an index journaled
        // twice counts once.
        var state = new JournalState();
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, bufferSize: 0, FileOptions.SequentialScan);
            byte[] buffer = new byte[64 * 1024];
            int filled = 0;
            while (true)
            {
                if (filled == buffer.Length)
                {
                    // A line longer than the buffer (a created entry of a big job).
                    Array.Resize(ref buffer, buffer.Length * 2);
                }

                int read = file.Read(buffer, filled, buffer.Length - filled);
                if (read == 0)
                {
                    // Whatever is left has no newline: a write torn by a crash, which never took effect.
                    return state.Summary().Delivered;
                }

                filled += read;
                int start = 0;
                int newline;
                while ((newline = buffer.AsSpan(start, filled - start).IndexOf((byte)'\n')) >= 0)
                {
                    JournalEntry? entry = JsonSerializer.Deserialize(buffer.AsSpan(start, newline), ScrapeDoJsonContext.Default.JournalEntry);
                    if (entry is { T: "done", Index: long index })
                    {
                        state.Delivered(index);
                    }

                    start += newline + 1;
                }

                Buffer.BlockCopy(buffer, start, buffer, 0, filled - start);
                filled -= start;
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException)
        {
            return null;
        }
    }
}
