using Microsoft.Extensions.Options;

namespace ScrapeDo.Lean.Hosting;

/// <summary>Start-up validation with exactly the messages the client constructor would throw.</summary>
internal sealed class ScrapeDoOptionsValidator : IValidateOptions<ScrapeDoClientOptions>
{
    public ValidateOptionsResult Validate(string? name, ScrapeDoClientOptions options)
    {
        try
        {
            options.Validate();
            return ValidateOptionsResult.Success;
        }
        catch (ArgumentException ex)
        {
            return ValidateOptionsResult.Fail(ex.Message);
        }
    }
}
