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
            RunJournal.ReadEntries(file, path, (entry, _) =>
            {
                if (entry is { T: "done", Index: long index })
                {
                    state.Delivered(index);
                }
            });
            return state.Summary().Delivered;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            return null;
        }
    }
}
