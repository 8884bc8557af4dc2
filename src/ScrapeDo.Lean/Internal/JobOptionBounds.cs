namespace ScrapeDo.Lean.Internal;

/// <summary>
/// The accepted ranges of the create-job durations, shared by the CLI (which refuses a value outside them before
/// anything is sent) and the emulator (whose defaults reject the same values with 400).
/// </summary>
/// <remarks>
/// async-api.md open question 10: the async API validates <c>Timeout</c> and <c>RetryTimeout</c> (changelog
/// 2026-11-17) but publishes no bounds. These are the sync API's documented ranges (retry-settings: RetryTimeout
/// 5000-55000 ms; timeout: 5000-120000 ms), our best guess for the async ones. If the real bounds turn out to
/// differ, this is the one place to change. The library itself does not enforce them: a caller of
/// <see cref="ScrapeDoClient"/> may know better than this guess, and the server has the last word.
/// <c>Render.CustomWait</c>'s 0-35000 ms is third-party (async-api.md: the MCP server's cap), equally a guess.
/// </remarks>
internal static class JobOptionBounds
{
    public const int TimeoutMinMs = 5_000;
    public const int TimeoutMaxMs = 120_000;
    public const int RetryTimeoutMinMs = 5_000;
    public const int RetryTimeoutMaxMs = 55_000;
    public const int CustomWaitMaxMs = 35_000;
}
