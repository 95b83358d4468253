using VirtApi.Endpoints;
using VirtApi.Extensions;

var builder = WebApplication.CreateBuilder(args);

builder.AddBuiltInConfiguration();
builder.AddApiDefaults();
builder.AddPersistence();
builder.AddVmRuntime();

var app = builder.Build();

app.UseApiDefaults();
app.MapInfo();
app.MapHosts();
app.MapImages();
app.MapVms();
app.MapDevices();
app.MapVmLifecycle();
app.MapSnapshots();
app.MapMigrations();
app.MapStats();
app.MapMetrics();

app.Run();

/// <summary>The web host's entry point; public so the API tests can start it with WebApplicationFactory.</summary>
public partial class Program;
