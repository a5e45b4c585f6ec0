"""Registry entries of the fair-latent generators (methods.md §1-§4). No heavy imports here."""

from ..registry import register  # noqa: F401

# --- fair VAE family (fair-VAE helper): FairDisCo, FairDistill, Fair4Free
register("fairdisco", "fairx.models.fair_latent.fair_vae:FairVAE", stage="generator",
         description="FairDisCo fair VAE (V² distance-covariance penalty); samples z ~ N(0, I)")
register("fairdistill", "fairx.models.fair_latent.fairdistill:FairDistill", stage="generator",
         description="FairDistill: fair VAE teacher distilled into a small encoder; latent GMM sampler")
register("fair4free", "fairx.models.fair_latent.fair4free:Fair4Free", stage="generator",
         description="Fair4Free: data-free distillation of a fair VAE into a small latent generator + decoder")
register("fair4free-data", "fairx.models.fair_latent.fair4free:Fair4Free", stage="generator",
         description="Fair4Free ablation distilled from real-data latents (NOT data-free)", source="data")

# --- FLDGM (FLDGM helper): frozen fair VAE + a latent generative model (methods.md §2)
register("fldgm", "fairx.models.fair_latent.fldgm:FLDGM", stage="generator",
         description="FLDGM: frozen fair VAE + latent generator (latent_model: ddpm | wgan-gp | lsgan)")
register("fldgm-wgan-gp", "fairx.models.fair_latent.fldgm:FLDGM", stage="generator",
         description="FLDGM with a WGAN-GP on the fair latent space", latent_model="wgan-gp")
register("fldgm-lsgan", "fairx.models.fair_latent.fldgm:FLDGM", stage="generator",
         description="FLDGM with an LSGAN on the fair latent space", latent_model="lsgan")
register("fldgm-ddpm", "fairx.models.fair_latent.fldgm:FLDGM", stage="generator",
         description="FLDGM with a DDPM (cosine schedule, v-prediction) on the fair latent space",
         latent_model="ddpm")
