namespace VirtApi.Extensions;

internal static class ConfigurationExtensions
{
    /// <summary>
    /// The top-level <c>appsettings.json</c> is copied beside the binaries, so the server finds its
    /// configuration whatever folder it is started from; one in the content root (the checkout, when
    /// started with the README's command) still wins, and environment variables win over both.
    /// </summary>
    public static WebApplicationBuilder AddBuiltInConfiguration(this WebApplicationBuilder builder)
    {
        var shipped = Path.Combine(AppContext.BaseDirectory, "appsettings.json");
        if (File.Exists(shipped))
        {
            var sources = builder.Configuration.Sources;
            var first = sources.Select((source, index) => (source, index))
                .FirstOrDefault(s => s.source is Microsoft.Extensions.Configuration.Json.JsonConfigurationSource);
            var at = first.source is null ? 0 : first.index;
            sources.Insert(at, new Microsoft.Extensions.Configuration.Json.JsonConfigurationSource
            {
                Path = "appsettings.json",
                Optional = true,
                FileProvider = new Microsoft.Extensions.FileProviders.PhysicalFileProvider(AppContext.BaseDirectory),
            });
        }
        return builder;
    }
}
