using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using VirtApi.Hypervisor.Migration;
using VirtApi.Persistence.Entities;

namespace VirtApi.Persistence.Configurations;

internal sealed class MigrationConfiguration : IEntityTypeConfiguration<MigrationEntity>
{
    public void Configure(EntityTypeBuilder<MigrationEntity> builder)
    {
        builder.ToTable("Migrations");
        builder.HasKey(m => m.Id);
        builder.HasOne<VmEntity>().WithMany().HasForeignKey(m => m.VmId).OnDelete(DeleteBehavior.Cascade);
        builder.Property(m => m.Mode).HasConversion(EnumNames.Converter<MigrationMode>()).HasMaxLength(16);
        builder.Property(m => m.Phase).HasConversion(EnumNames.Converter<MigrationPhase>()).HasMaxLength(32);
        builder.Property(m => m.Error).HasMaxLength(1024);
        // Start-up and the guards look for the migrations that are not over.
        builder.HasIndex(m => m.Phase);
        builder.HasMany(m => m.Rounds).WithOne().HasForeignKey(r => r.MigrationId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class MigrationRoundConfiguration : IEntityTypeConfiguration<MigrationRoundEntity>
{
    public void Configure(EntityTypeBuilder<MigrationRoundEntity> builder)
    {
        builder.ToTable("MigrationRounds");
        builder.HasKey(r => new { r.MigrationId, r.Number });
    }
}
