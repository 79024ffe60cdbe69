/** The segment catalogue cards of the local report (issue #12): one card per segment, below the segment table. */
export { CATALOGUE_CSS, renderCatalogueCard, renderCatalogueSection } from '../../shared/catalogue/card-html';
